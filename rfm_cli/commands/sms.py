"""rfm sms check: a marketing SMS template checked against its provider's rules."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from rfm_cli.commands._base import RfmCommand
from rfm_cli.commands._common import TextOrJson, check_text_or_json, state

CHECK_HELP = """Check an SMS template against the provider's rules before a list is sent: the signature in
【】, the opt-out phrase a promotional message must end with (拒收请回复R, 回T退订), the variables
(named as the provider allows, each provided by --sms-vars, never inside a link), the length and
the billing segments (70 characters in one, else 67 each), and the provider's sending hours.
Exit 0 when it passes; 78 and one line naming every broken rule when it does not (with
--format json the result is on stdout either way).

\b
Examples:
  rfm sms check "【小店】${name}您好，送您10元券。拒收请回复R" --sms-vars name
  rfm sms check "【小店】{1}您好，送您10元券。回T退订" --provider tencent --sms-vars name"""

HELP = """SMS rules: `rfm sms check TEXT|FILE` checks a template against the provider's rules before a
list is sent."""

app = typer.Typer(help=HELP, no_args_is_help=True)


@app.command("check", help=CHECK_HELP, cls=RfmCommand,
             short_help="Check a template: signature, opt-out, variables, length.")
def check(
    ctx: typer.Context,
    template: Annotated[str, typer.Argument(metavar="TEMPLATE", help="The text, or a .txt file holding it.",
                                            show_default=False)],
    provider: Annotated[str, typer.Option("--provider", metavar="aliyun|tencent|huawei",
                                          help="Whose rules to apply.")] = "aliyun",
    sms_vars: Annotated[str | None, typer.Option("--sms-vars", metavar="name,tier,category,coupon",
                                                 help="The columns the list provides.")] = None,
    notification: Annotated[bool, typer.Option("--notification", help="A service notice, not a promotion: "
                                                                      "no opt-out phrase required.")] = False,
    fmt: TextOrJson = "text",
) -> None:
    from rfm_cli.core.compliance.sms_template import check_template, read_template, refuse_unless_ok

    st = state(ctx)
    check_text_or_json(fmt)
    variables = tuple(v.strip() for v in (sms_vars or "").split(",") if v.strip())
    result = check_template(read_template(template), provider, list_vars=variables,
                            promotional=not notification)
    if fmt == "json":  # the check's result is data, pass or fail; the exit code and stderr say which
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    elif result.ok:
        st.say(f"{provider}: signature {result.signature or '(none)'}; variables "
               f"{', '.join(result.variables) or 'none'}; {result.longest} characters without the list's "
               f"values, {result.segments} segment{'s' if result.segments != 1 else ''}"
               + (f"; send between {result.send_window[0]} and {result.send_window[1]}"
                  if result.send_window else ""))
        st.say("  passes every rule")
    refuse_unless_ok(result)
