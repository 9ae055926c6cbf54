"""Class labels and feature names that try to write markup into the pull request comment."""

from {{ cookiecutter.package_name }}.outputs import visible
from {{ cookiecutter.package_name }}.report.comment import confusion_table, importance_chart

from ..markup import HOSTILE, code_spans, inert, markup, table_rows


def test_hostile_class_labels_keep_the_confusion_matrix_a_table():
    labels = HOSTILE[:6]
    pairs = zip(labels, labels[::-1], strict=True)
    rows = [{"actual": actual, "predicted": predicted} for actual, predicted in pairs]

    markdown = "\n".join(confusion_table(rows)) + "\n"

    assert table_rows(markdown) == len(labels)
    assert sorted(code_spans(markdown)) == sorted(map(visible, labels * 2))  # columns, then rows
    assert inert(markdown, expected=markup("**Confusion matrix** (test set)\n"))


def test_hostile_feature_names_stay_inside_the_mermaid_chart():
    rows = [{"feature": name, "importance": str(rank)} for rank, name in enumerate(HOSTILE[:10])]

    chart = importance_chart(rows)

    assert (chart[0], chart[-1]) == ("```mermaid", "```")
    assert all("\n" not in line and not line.startswith("```") for line in chart[1:-1])
