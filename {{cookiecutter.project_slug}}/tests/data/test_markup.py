"""Column names and values that try to write markup into validation.md."""

from {{ cookiecutter.package_name }}.data.schema import Schema, infer_schema
from {{ cookiecutter.package_name }}.data.validate import summary, validate, verdict
from {{ cookiecutter.package_name }}.outputs import visible

from ..markup import HOSTILE, code_spans, inert, table_rows


def test_hostile_columns_and_values_stay_text_in_their_cells(frame, params):
    schema = Schema.model_validate(infer_schema(frame, params.data, params.task))
    hostile = frame.assign(**dict.fromkeys(HOSTILE, "x"))
    hostile["colour"] = [HOSTILE[row % len(HOSTILE)] for row in range(len(frame))]

    failures = validate(hostile, schema, params)
    markdown = summary(failures, verdict(failures, 20, len(frame)))

    assert table_rows(markdown) == len(failures) == len(HOSTILE) + 1  # unexpected columns, unseen values
    assert set(map(visible, HOSTILE)) <= set(code_spans(markdown))
    assert inert(markdown)
