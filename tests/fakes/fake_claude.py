#!/usr/bin/env python3
"""A stand-in for the `claude` CLI in headless stream-json mode, for the claude-code router tests.

It checks its flags like the real CLI, reads the prompt (last argument or stdin), then replays
a recorded event stream from `claude_streams/<FAKE_CLAUDE_SCENARIO>.jsonl` (default `route`) or
from the file named by FAKE_CLAUDE_SCRIPT. Each line of a stream is written as it is, after
these placeholders are filled in: {{skill}}, {{model}}, {{cwd}}, {{api_key}}, and "{{skills}}"
(a JSON list of the skill names it sees). Lines with a "fake" key are directions instead:

    {"fake": "sleep", "seconds": 30}     pause (times FAKE_CLAUDE_SLEEP_SCALE, default 1)
    {"fake": "raw", "text": "..."}       write a line that is not JSON
    {"fake": "stderr", "text": "..."}    write a line on stderr
    {"fake": "exit", "code": 1}          stop here with this exit code

Environment: FAKE_CLAUDE_SKILL (comma-separated names; the first one it sees is chosen, else
the first of them as given; default: the first skill under .claude/skills), FAKE_CLAUDE_LOG
(append one JSON line: argv, cwd, pid, prompt, skills seen, whether ANTHROPIC_API_KEY was
set), FAKE_CLAUDE_IGNORE_TERM=1 (ignore SIGTERM, so only SIGKILL stops it).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

STREAMS = Path(__file__).resolve().parent / "claude_streams"
DEFAULT_MODEL = "claude-sonnet-4-5-20250929"  # what {{model}} becomes without --model
VALUE_FLAGS = {
    "--output-format",
    "--input-format",
    "--model",
    "--max-turns",
    "--permission-mode",
    "--setting-sources",
    "--append-system-prompt",
    "--allowedTools",
    "--disallowedTools",
}
SWITCH_FLAGS = {
    "-p",
    "--print",
    "--verbose",
    "--include-partial-messages",
    "--dangerously-skip-permissions",
}


def fail(message: str) -> None:
    """Exit 1 with a message on stderr, as the real CLI does for bad flags."""
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


def parse_args(argv: list[str]) -> tuple[dict[str, str | bool], list[str]]:
    """Flags (value or True) and positional arguments."""
    flags: dict[str, str | bool] = {}
    positional: list[str] = []
    items = iter(argv)
    for arg in items:
        if arg == "--":
            positional.extend(items)
        elif arg in SWITCH_FLAGS:
            flags[arg] = True
        elif arg in VALUE_FLAGS:
            value = next(items, None)
            if value is None:
                fail(f"error: option '{arg} <value>' argument missing")
            flags[arg] = str(value)
        elif arg.startswith("-"):
            fail(f"error: unknown option '{arg}'")
        else:
            positional.append(arg)
    return flags, positional


def check_headless_flags(flags: dict[str, str | bool]) -> None:
    """The flags the claude-code router must pass."""
    if not (flags.get("-p") or flags.get("--print")):
        fail("fake claude: expected -p (headless mode)")
    if flags.get("--output-format") != "stream-json":
        fail("fake claude: expected --output-format stream-json")
    if not flags.get("--verbose"):
        fail("Error: When using --print, --output-format=stream-json requires --verbose")
    if not flags.get("--include-partial-messages"):
        fail("fake claude: expected --include-partial-messages")


def front_matter_name(skill_file: Path) -> str:
    """The `name:` of a SKILL.md, else its folder name."""
    for line in skill_file.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip() == "---":
            break
        if line.startswith("name:"):
            return line.removeprefix("name:").strip().strip("\"'")
    return skill_file.parent.name


def chosen_skill(visible: dict[str, str]) -> str:
    """The skill the 'model' calls: FAKE_CLAUDE_SKILL's first visible name, else the first."""
    wanted = [n.strip() for n in os.environ.get("FAKE_CLAUDE_SKILL", "").split(",") if n.strip()]
    for name in wanted:
        for folder, skill_name in visible.items():
            if name in (folder, skill_name):
                return skill_name
    if wanted:
        return wanted[0]
    return next(iter(visible.values()), "no-skill-visible")


def stream_file() -> Path:
    """The recorded stream to replay."""
    script = os.environ.get("FAKE_CLAUDE_SCRIPT")
    if script:
        return Path(script)
    return STREAMS / f"{os.environ.get('FAKE_CLAUDE_SCENARIO', 'route')}.jsonl"


def filled_lines(path: Path, values: dict[str, str], skills: list[str]) -> list[str]:
    """The stream's non-blank lines with the placeholders filled in; directions included."""
    lines = []
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        if not raw_line.strip():
            continue
        line = raw_line.replace('"{{skills}}"', json.dumps(skills))
        for key, value in values.items():
            line = line.replace("{{" + key + "}}", json.dumps(value)[1:-1])
        lines.append(line)
    return lines


def replay(path: Path, values: dict[str, str], skills: list[str]) -> int:
    """Write the stream's lines as they come, following its directions; the exit code."""
    scale = float(os.environ.get("FAKE_CLAUDE_SLEEP_SCALE", "1"))
    for line in filled_lines(path, values, skills):
        event = json.loads(line)
        direction = event.get("fake")
        if direction is None:
            print(line, flush=True)
        elif direction == "sleep":
            time.sleep(float(event["seconds"]) * scale)
        elif direction == "raw":
            print(event["text"], flush=True)
        elif direction == "stderr":
            print(event["text"], file=sys.stderr, flush=True)
        elif direction == "exit":
            return int(event["code"])
    return 0


def main() -> int:
    """Check flags, log the call, replay the chosen stream."""
    if os.environ.get("FAKE_CLAUDE_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    flags, positional = parse_args(sys.argv[1:])
    check_headless_flags(flags)
    prompt = positional[-1] if positional else sys.stdin.read()
    if not prompt.strip():
        fail(
            "Error: Input must be provided either through stdin or as a prompt argument "
            "when using --print"
        )
    skill_files = sorted(Path.cwd().glob(".claude/skills/*/SKILL.md"))
    visible = {path.parent.name: front_matter_name(path) for path in skill_files}
    log = os.environ.get("FAKE_CLAUDE_LOG")
    if log:
        record = {
            "argv": sys.argv,
            "cwd": str(Path.cwd()),
            "pid": os.getpid(),
            "prompt": prompt,
            "skills": [str(path.relative_to(Path.cwd())) for path in skill_files],
            "api_key_set": bool(os.environ.get("ANTHROPIC_API_KEY")),
        }
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    values = {
        "skill": chosen_skill(visible),
        "model": str(flags.get("--model") or DEFAULT_MODEL),
        "cwd": str(Path.cwd()),
        "api_key": os.environ.get("ANTHROPIC_API_KEY", ""),
    }
    return replay(stream_file(), values, list(visible.values()))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader stopped listening, as the router does once it knows
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
