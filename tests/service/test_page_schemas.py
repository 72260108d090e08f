"""page_of: one page schema per item schema, named after it, in the two flavours the document has."""

from __future__ import annotations

from marshmallow import fields

from service.schemas import BaseSchema, page_of


class ThingSchema(BaseSchema):
    id = fields.Integer()


def test_one_page_class_per_item_schema_named_for_its_openapi_component() -> None:
    page = page_of(ThingSchema)
    assert page is page_of(ThingSchema) is page_of(ThingSchema, "ThingPage")
    assert page.__name__ == "ThingPageSchema" and page_of(ThingSchema, "StuffPage").__name__ == "StuffPageSchema"
    assert page().dump({"items": [{"id": 1}], "next": None}) == {"items": [{"id": 1}], "next": None}


def test_a_documented_page_requires_items_and_describes_next() -> None:
    plain, documented = page_of(ThingSchema)(), page_of(ThingSchema, documented=True)()
    assert not plain.fields["items"].required and plain.fields["next"].metadata == {}
    assert documented.fields["items"].required and documented.fields["next"].metadata["description"]
