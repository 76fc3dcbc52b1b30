"""Regenerates care-guide.pdf (needs reportlab, which botrt itself does not depend on).

pip install reportlab && python tests/data/knowledge/make_pdf.py
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

HERE = Path(__file__).resolve().parent

PAGES = [
    (
        "Caring for your tent",
        [
            "Pitch your new tent once at home before the first trip, so you know every pole and clip.",
            "Never pack a tent away wet. Mildew grows within two days and ruins the waterproof coating. "
            "If you must strike camp in the rain, unpack the tent and hang it to dry within 24 hours.",
            "Clean the fly sheet with lukewarm water and a soft sponge. Detergents and washing machines "
            "strip the coating.",
        ],
    ),
    (
        "Caring for your sleeping bag",
        [
            "Store a down sleeping bag loosely in the large cotton sack it came with, never compressed "
            "in its stuff sack: compressed down loses its loft.",
            "Wash it at most once a season in a front-loading machine with a down-specific soap, then "
            "tumble dry on low heat with two clean tennis balls to break up clumps.",
        ],
    ),
    (
        "Caring for your boots",
        [
            "Remove the insoles after every hike and let the boots dry at room temperature, away from "
            "radiators and campfires, which crack the leather.",
            "Re-waterproof leather boots with wax twice a year.",
        ],
    ),
]


def main() -> None:
    styles = getSampleStyleSheet()
    story = []
    for i, (heading, paragraphs) in enumerate(PAGES):
        if i:
            story.append(PageBreak())
        title = Paragraph(heading, styles["Heading1"])
        title._bookmarkName = f"page{i}"  # noqa: SLF001 - reportlab's way to name an anchor
        story.append(title)
        story.extend(Paragraph(text, styles["BodyText"]) for text in paragraphs)

    def on_page(canvas, doc):  # type: ignore[no-untyped-def]
        index = canvas.getPageNumber() - 1
        canvas.bookmarkPage(f"page{index}")
        canvas.addOutlineEntry(PAGES[index][0], f"page{index}", level=0)

    doc = SimpleDocTemplate(
        str(HERE / "care-guide.pdf"),
        pagesize=A4,
        title="Product care guide",
        author="Trailhead Outfitters",
        invariant=1,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


if __name__ == "__main__":
    main()
