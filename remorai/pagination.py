from django.core.paginator import EmptyPage, InvalidPage, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """DRF's, but `?page_size=abc` is a 400 naming the parameter instead of the default page
        size given without a word (a larger number is still capped at max_page_size)."""
        value = request.query_params.get(self.page_size_query_param, "")
        if value.strip() and not value.strip().lstrip("+-").isdigit():
            raise ValidationError({self.page_size_query_param: ["Enter a whole number."]})
        return super().get_page_size(request)


class CappedCountPaginator(DjangoPaginator):
    """Counts at most `count_to` + 1 rows: COUNT(*) over a LIMIT-ed subquery, asked in the same
    query as the page (a scalar subquery the database runs once), so a page is one round trip.

    `rows`, when set, turns the page's slice of the queryset into what the page holds (e.g.
    plain rows from values() instead of model instances); it must keep the queryset's
    annotations, which carry the count (`capped_count`)."""

    count_to = 1_000
    rows = None

    def page(self, number):
        number = self.validate_number_without_count(number)
        bottom = (number - 1) * self.per_page
        # The ORM's own SQL for the capped rows, its values passed as parameters.
        sql, params = self.capped_rows().query.sql_with_params()
        count = RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS capped", params)  # noqa: S608, S611
        page = self.object_list.annotate(capped_count=count)[bottom : bottom + self.per_page]
        items = self.rows(page) if self.rows is not None else list(page)
        if items:
            self.__dict__["count"] = items[0].capped_count
        else:  # past the end (EmptyPage) or nothing at all: count on its own
            self.validate_number(number)
        return self._get_page(items, number, self)

    def validate_number_without_count(self, number) -> int:
        """Django's validate_number() up to where it would need the count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def capped_rows(self):
        """The first `count_to` + 1 rows' keys, in the list's order: the index that serves the
        page then serves the count too (index-only)."""
        return self.object_list.values("pk")[: self.count_to + 1]

    @cached_property
    def count(self) -> int:
        return self.capped_rows().count()

    @property
    def capped(self) -> bool:
        return self.count > self.count_to


class CappedCountPagination(PageNumberPagination):
    """Page numbers whose `count` stops one past max(1,000, the end of the requested page).

    An exact COUNT(*) over a user's whole run history grows with it (~100 ms at 100,000 runs on
    PostgreSQL, far more than the page); counting only as far as the page asked for (plus 1,000
    on the first pages) costs no more than the OFFSET the page needs anyway. `count_capped` is
    true when there are more results than `count` says; `next` is then always set.
    """

    django_paginator_class = CappedCountPaginator
    count_cap = 1_000
    max_offset = 10**12  # rows; a larger page number is a 404 (found by API fuzzing: was a 500)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.rows = getattr(view, "page_rows", None)
        page_number = self.get_page_number(request, paginator)
        try:
            wanted = int(page_number)
        except (TypeError, ValueError):
            wanted = 1
        if wanted * page_size > self.max_offset:  # LIMIT would overflow the database's bigint
            message = self.invalid_page_message.format(
                page_number=page_number, message="That page is beyond any history."
            )
            raise NotFound(message)
        paginator.count_to = max(self.count_cap, wanted * page_size)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            msg = self.invalid_page_message.format(page_number=page_number, message=str(exc))
            raise NotFound(msg) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "true when there are more results than `count` (counting stops "
            "past 1,000 or past the requested page)",
        }
        schema["required"] = [*schema.get("required", []), "count_capped"]
        return schema
