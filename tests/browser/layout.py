"""Measure one open page: does it fit its viewport, and what does axe-core find on it."""
import os
from dataclasses import dataclass
from pathlib import Path

AXE = Path(__file__).resolve().parents[1] / "fixtures" / "axe-core" / "axe.min.js"
VIEWPORTS = {"360x740": {"width": 360, "height": 740}, "1280x800": {"width": 1280, "height": 800}}
BLOCKING = ("serious", "critical")  # axe impacts a page may not have
# WCAG 2.0/2.1 A and AA, plus axe's best practices (landmarks, one h1, skip links ...)
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}
RESULTS: list = []  # every Measurement of the run, for the summary table


@dataclass
class Measurement:
    page: str
    viewport: str
    scroll_width: int
    client_width: int
    violations: list  # (impact, rule id, how many nodes) for every violation axe found

    @property
    def fits(self) -> bool:
        return self.scroll_width <= self.client_width

    @property
    def blocking(self) -> list:
        return [v for v in self.violations if v[0] in BLOCKING]

    def row(self) -> str:
        found = ", ".join(f"{rule} ({impact}, {count})" for impact, rule, count in self.violations) or "none"
        return (f"| {self.page} | {self.viewport} | {self.scroll_width} / {self.client_width} | "
                f"{len(self.blocking)} | {found} |")


def measure(page, name: str, viewport: str) -> Measurement:
    """The document's scroll and client widths, and axe-core's violations, on the page as it is now."""
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("options => axe.run(document, options).then(r => r.violations.map("
                          "v => [v.impact, v.id, v.nodes.length]))", AXE_OPTIONS)
    result = Measurement(name, viewport, widths[0], widths[1], [tuple(v) for v in found])
    RESULTS.append(result)
    return result


def report() -> str:
    """The run's measurements as a Markdown table, written to LAYOUT_REPORT when it names a file."""
    lines = ["| page | viewport | scrollWidth / clientWidth (px) | serious+critical | axe violations (impact, nodes) |",
             "|---|---|---|---|---|"] + [m.row() for m in sorted(RESULTS, key=lambda m: (m.page, VIEWPORTS[m.viewport]["width"]))]
    text = "\n".join(lines) + "\n"
    if os.environ.get("LAYOUT_REPORT"):
        Path(os.environ["LAYOUT_REPORT"]).write_text(text)
    return text
