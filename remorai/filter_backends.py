from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter's, skipped by a request that names none of the filterset's parameters.

    A filterset deep-copies its filters and builds a form class for every request: about a
    millisecond of a list page (B4, docs/benchmarks.md) spent filtering nothing, since a filter
    whose parameter is absent leaves the queryset as it is. A parameter that starts with a
    filter's name (a range's `_min`, say) still goes through the filterset.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(param.startswith(names) for param in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
