"""Templates render in Jinja2's sandbox: slots and filters, never Python internals."""

from __future__ import annotations

import pytest

from engine.templates import check, evaluate, render, render_value


def test_names_filters_and_missing_values() -> None:
    assert render("Hi {{ name }}{{missing}}!", {"name": "Ada"}) == "Hi Ada!"
    assert render("{{ name|upper }} {{ none }}|{{ a.b.c }}", {"name": "ada", "none": None}) == "ADA |"
    assert render("{% if vip %}VIP {% endif %}{{ items|join(', ') }}", {"vip": True, "items": ["a", "b"]}) == "VIP a, b"
    assert render("no braces at all", {}) == "no braces at all"
    assert render("<b>{{ x }}</b>", {"x": "<i>"}) == "<b><i></b>"  # autoescape is off: chat text is not HTML


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ name.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ name.__init__.__globals__ }}",
        "{{ range.__self__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__ }}",
        "{{ self.__init__ }}",
        "{{ name.upper }}",
        "{{ request.application }}",
        "{{ config.items() }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_python_internals_are_refused(template: str) -> None:
    rendered = render(template, {"name": "x"})
    assert "class" not in rendered and "function" not in rendered and "module" not in rendered
    assert rendered.strip() == ""


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 1000000 }}",
        "{{ 2 ** 100000 }}",
        "{{ (10 ** 900) ** 900 }}",
        "{% for i in range(10**6) %}x{% endfor %}",
    ],
)
def test_runaway_templates_are_cut_short(template: str) -> None:
    assert render(template, {}) == ""


def test_a_failing_template_renders_empty_instead_of_raising() -> None:
    assert render("{{ 1 / 0 }}", {}) == ""
    assert render("{{ name() }}", {"name": "x"}) == ""


def test_syntax_errors_are_found_at_load() -> None:
    assert check("{{ fine }}") is None
    assert check("{{ broken") is not None
    assert check("{% if %}") is not None


def test_expressions_and_typed_values() -> None:
    assert evaluate("age >= 18 and country in ['fr', 'de']", {"age": 20, "country": "fr"}) is True
    assert evaluate("missing.attr", {}) is None
    assert evaluate("''.__class__", {}) is None
    assert render_value("{{ a + b }}", {"a": 1, "b": 2}) == 3
    assert render_value("{{ items }}", {"items": [1, 2]}) == [1, 2]
    assert render_value("n={{ a }}", {"a": 1}) == "n=1"


@pytest.mark.parametrize(
    "template",
    [
        "echo: {{ said }}",
        "Hi {{name}}, {{ name }}!",
        "{{ missing }}x",
        "{{ nothing }}|{{ number }}|{{ ratio }}|{{ flag }}|{{ items }}|{{ mapping }}",
        "{{ range }}{{ dict }}{{ namespace }}",  # globals: callables print nothing
        "{{ true }} {{ None }} {{ False }}",  # literals, not slots
        "{{ said }} {% if flag %}yes{% endif %}",
        "{{ said }} {# a comment #}",
        "{{ said|upper }} {{ said }}",
        "{{ 'x' * 3 }} {{ said }}",
        "{ not a placeholder } {{ said }}",
    ],
)
def test_plain_placeholders_render_exactly_as_jinja_does(template: str) -> None:
    # render() skips Jinja for text made only of `{{ name }}` placeholders; the output must be
    # the sandbox's own, whichever way a template goes.
    from engine.templates import _compiled

    values = {"said": "m1", "name": "Ada", "nothing": None, "number": 3, "ratio": 1.5, "flag": True,
              "items": [1, "x"], "mapping": {"a": 1}}
    assert render(template, values) == _compiled(template).render(dict(values))
