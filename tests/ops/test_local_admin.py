"""A second `make run` cannot show the local admin's password again: it says where they are kept
(VAR_DIR/local-admin.txt, mode 0600) and how to get new ones (--reset). Real processes."""

import re


def credentials(output: str) -> tuple[str, str]:
    password = re.search(r"password:\s+(\S+)", output)[1]
    token = re.search(r"API token:\s+(\S+)", output)[1]
    return password, token


def can_sign_in(cli, password: str) -> bool:
    check = (  # check_password: authenticate() needs a request under django-axes
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(username='admin').check_password({password!r}))"
    )
    return cli.run("shell", "-c", check).stdout.split()[-1] == "True"


def test_credentials_are_kept_in_a_private_file_and_a_second_run_says_where(cli):
    first = cli.run("ensure_local_admin")
    assert first.returncode == 0, first.stderr
    password, token = credentials(first.stdout)
    kept = cli.var_dir / "local-admin.txt"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert f"password={password}\n" in kept.read_text()
    assert f"api_token={token}\n" in kept.read_text()

    second = cli.run("ensure_local_admin")
    assert second.returncode == 0
    assert password not in second.stdout
    assert f"are in {kept} (readable by you only)" in second.stdout
    assert "ensure_local_admin --reset" in second.stdout


def test_reset_gives_a_new_password_and_token(cli):
    old_password, old_token = credentials(cli.run("ensure_local_admin").stdout)
    (cli.var_dir / "local-admin.txt").unlink()  # lost

    second = cli.run("ensure_local_admin")
    assert "were shown when it was created" in second.stdout
    assert "ensure_local_admin --reset" in second.stdout

    reset = cli.run("ensure_local_admin", "--reset", "--address", "127.0.0.1:8001")
    assert reset.returncode == 0, reset.stderr
    assert "admin:     http://127.0.0.1:8001/admin/" in reset.stdout  # make run RUN_ADDR=…
    password, token = credentials(reset.stdout)
    assert (password, token) != (old_password, old_token) and token != old_token
    assert can_sign_in(cli, password) and not can_sign_in(cli, old_password)
    assert f"password={password}\n" in (cli.var_dir / "local-admin.txt").read_text()


def test_reset_without_any_admin_says_what_to_do(cli):
    result = cli.run("ensure_local_admin", "--reset")
    assert result.returncode == 1
    assert "run it without --reset first" in result.stderr
