"""Stage `assemble`: reports/index.html from the sections that exist; draws nothing."""

from pathlib import Path

from pipeline import config
from pipeline.cli import Parser, UserError
from pipeline.errors import remake_hint
from pipeline.page.assemble import assemble_into


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m pipeline assemble", description=__doc__.splitlines()[0])
    parser.add_argument("--reports-dir", type=Path, default=config.REPORTS_DIR)
    args = parser.parse_args(argv)
    try:
        print(assemble_into(args.reports_dir, args.reports_dir))
    except ValueError as err:
        raise UserError(f"{args.reports_dir}/section.json is damaged ({err}); "
                        + remake_hint("make report")) from None
