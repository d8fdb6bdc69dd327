"""`flask chat-stories`: play the conversation stories (tests/stories) and print the pass rate per flow.

The stories run on a throwaway app (in-memory SQLite seeded with the demo, the embedded queue, a fake
WeChat API on loopback), never on the developer's database. Needs the dev requirements (time-machine).
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import click

TESTS = Path(__file__).resolve().parents[1] / "tests"
PASS_RATE = 97.0


def _load(name: str):
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    return importlib.import_module(name)


@click.command("chat-stories")
@click.option("--flow", default=None, help="Only the stories of this flow (a file name in tests/stories/flows).")
@click.option("--verbose", is_flag=True, help="Show each failing story's whole conversation.")
def stories_command(flow: str | None, verbose: bool) -> None:
    """Run the conversation stories and print passed/failed per flow, then each failing story."""
    try:
        clock, stage_mod, runner, story = (_load(m) for m in ("clock", "stories.stage", "stories.runner",
                                                                "stories.story"))
    except ImportError as exc:
        raise click.ClickException(f"需要开发依赖（make install）：{exc}") from exc
    from fakewechat import serve_in_thread  # noqa: PLC0415

    stories = story.load(flow=flow)
    if not stories:
        raise click.UsageError(f"no stories for flow {flow!r}")
    for name in ("werkzeug", "bots", "app"):
        logging.getLogger(name).setLevel(logging.ERROR)
    server, _url = serve_in_thread()
    try:
        stage = stage_mod.build_stage(server.fake)
        with clock.travel_from_now() as traveller, stage.app.app_context():
            results = runner.run_all(stage, stories, clock.Clock(traveller))
    finally:
        server.shutdown()
    click.echo(runner.format_table(results))
    failing = [r for r in results if not r.passed]
    for result in failing:
        click.echo("")
        if verbose:
            click.echo(result.explain())
        else:
            where = f"turn {result.turn}" if result.turn else "effects"
            click.echo(f"FAIL {result.story.flow}/{result.story.name} — {where}: {result.problem}")
    rate = 100.0 * (len(results) - len(failing)) / len(results)
    if rate < PASS_RATE:
        raise SystemExit(1)
