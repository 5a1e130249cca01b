"""The model ids the simulator lists (`GET …/models`): every model of the catalog's seed, per
provider. Generation accepts any model id (unless a test restricts them with
`/_control/settings {"models": …}`), so every catalog model — seeded, synced or added by staff —
can be simulated."""

from __future__ import annotations

from llm.seed import MODELS


def listed_models(sim, provider: str) -> list[str]:
    served = sim.settings.models.get(provider)
    if served:
        return list(served)
    return [direct for name, direct, *_ in MODELS if name.partition("/")[0] == provider]
