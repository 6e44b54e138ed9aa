"""`studio image`, `studio video` and `studio jobs` as a user runs them: real processes on the
persistent demo gateway (each process runs its own in-process emulator; the tasks are kept in
the data folder, so one process's task is known to the next) and one shared store."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.jobs import JobState
from studio.jobs.requests import image_request, video_request
from studio.store import Store

from .test_client_media import png

QUICK = "[[emulator: seconds=1]]"
"""A demo video task that is done within about a second."""
SLOW = "[[emulator: seconds=600]]"
"""A demo video task that runs for ten minutes."""


def studio(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def background(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def wait_until(condition: Callable[[], object], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def stored(job_id: int) -> dict[str, object]:
    result = studio("jobs", "show", str(job_id), "--json")
    assert result.returncode == 0, result.stderr
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def started_video(*args: str) -> int:
    """A video started without waiting: its id, printed alone on stdout."""
    result = studio("video", *args, "--demo")
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


# -- image -----------------------------------------------------------------------------------------


def test_image_saves_the_files_and_prints_their_paths() -> None:
    result = studio("image", "--demo", "--count", "2", "two red squares")
    assert result.returncode == 0, result.stderr
    paths = result.stdout.splitlines()
    assert len(paths) == 2
    assert all(Path(p).is_file() and Path(p).read_bytes()[:4] == b"\x89PNG" for p in paths)
    with Store.open() as store:
        (job,) = store.list_jobs()
    assert job.state is JobState.SUCCEEDED
    assert sorted(f.path for f in job.files) == sorted(paths)


def test_image_json_is_the_job_payload() -> None:
    result = studio("image", "--demo", "--json", "--seed", "7", "a blue circle")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1  # one object, one line
    payload = json.loads(result.stdout)
    assert payload["version"] == 1
    assert payload["kind"] == "image" and payload["state"] == "succeeded"
    assert payload["params"]["seed"] == 7
    assert payload["files"][0]["saved"] is True
    assert Path(payload["files"][0]["path"]).is_file()


@pytest.mark.parametrize(
    ("options", "field", "fields"),
    [
        (["--size", "5x5"], "--size", {"size": "5x5"}),
        (["--count", "20"], "--count", {"max_images": "20"}),
        (["--seed", "x"], "--seed", {"seed": "x"}),
        (["--ref", "/no/such.png"], "--ref", {"references": "/no/such.png"}),
    ],
)
def test_image_options_are_refused_with_the_forms_words(
    options: list[str], field: str, fields: dict[str, str]
) -> None:
    form = {"model": "doubao-seedream-4-5-251128", "prompt": "p", "size": "2K", **fields}
    _, errors = image_request(form)
    (reason,) = errors.values()
    result = studio("image", "--demo", *options, "p")
    assert result.returncode == 2
    assert result.stderr == f"studio: {field}: {reason}\n"
    assert result.stdout == ""
    with Store.open() as store:
        assert store.list_jobs() == []  # nothing written, nothing sent


def test_image_refused_upstream_fails_in_one_line_and_stays_in_the_store() -> None:
    result = studio("image", "--demo", "a cat [[emulator: fault=500]]")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: job #1 (image) ")
    assert "Traceback" not in result.stderr
    assert stored(1)["state"] in ("failed", "submission_uncertain")


# -- video -----------------------------------------------------------------------------------------


def test_video_prints_its_id_and_a_new_process_waits_for_it() -> None:
    job_id = started_video("seedance", f"waves {QUICK}")
    assert stored(job_id)["task_id"]  # sent and answered before the id was printed
    result = studio("jobs", "wait", str(job_id), "--demo")
    assert result.returncode == 0, result.stderr
    (path,) = result.stdout.splitlines()
    assert Path(path).is_file() and path.endswith(".mp4")
    assert stored(job_id)["state"] == "succeeded"


@pytest.mark.parametrize(
    ("kind", "options", "action"),
    [
        ("seedance", ["--ratio", "9:16", "--resolution", "480p", "--no-audio"], "generate"),
        ("kling-t2v", ["--mode", "pro", "--aspect-ratio", "1:1", "--duration", "10"], "text2video"),
        ("kling-i2v", ["--image", "FRAME", "--negative-prompt", "blur"], "image2video"),
        ("kling-multi", ["--image", "FRAME", "--image", "FRAME"], "multi-image2video"),
    ],
)
def test_video_wait_follows_every_kind_to_its_file(
    kind: str, options: list[str], action: str, tmp_path: Path
) -> None:
    frame = str(png(tmp_path / "frame.png", 320, 320))
    options = [frame if o == "FRAME" else o for o in options]
    result = studio("video", kind, *options, "--wait", "--json", "--demo", f"a scene {QUICK}")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["state"] == "succeeded" and payload["action"] == action
    assert Path(payload["files"][0]["path"]).is_file()
    if kind == "seedance":
        assert payload["params"]["ratio"] == "9:16" and payload["params"]["generate_audio"] is False
    if kind == "kling-t2v":
        assert payload["params"]["mode"] == "pro" and payload["params"]["duration"] == "10"


@pytest.mark.parametrize(
    ("args", "kind", "fields", "option"),
    [
        (["seedance", "--duration", "99"], "seedance", {"duration": "99"}, "--duration"),
        (["seedance", "--ratio", "5:4"], "seedance", {"ratio": "5:4"}, "--ratio"),
        (["kling-i2v"], "kling:image2video", {}, "--image"),
        (["kling-t2v", "--cfg-scale", "2"], "kling:text2video", {"cfg_scale": "2"}, "--cfg-scale"),
        (
            ["kling-multi", *["--image", "https://x/a.png"] * 5],
            "kling:multi-image2video",
            {"images": ",".join(["https://x/a.png"] * 5)},
            "--image",
        ),
    ],
)
def test_video_options_are_refused_with_the_forms_words(
    args: list[str], kind: str, fields: dict[str, str], option: str
) -> None:
    model = {"seedance": "seedance-2.0", "kling:multi-image2video": "kling-v1-6"}.get(
        kind, "kling-v2-master"
    )
    form = {"model": model, "prompt": "p", **fields}
    _, errors = video_request(kind, form)
    (reason,) = errors.values()
    result = studio("video", *args, "--demo", "p")
    assert result.returncode == 2
    assert result.stderr == f"studio: {option}: {reason}\n"


def test_a_video_that_fails_upstream_exits_1_with_one_line() -> None:
    result = studio(
        "video",
        "seedance",
        "--wait",
        "--demo",
        "x [[emulator: seconds=1; fault=fail:policy says no]]",
    )
    assert result.returncode == 1
    assert result.stdout == ""
    failure = [line for line in result.stderr.splitlines() if "failed" in line]
    assert failure == [
        "studio: job #1 (video) failed: policy says no (send it again as a new job: studio jobs retry 1)"
    ]
    assert stored(1)["state"] == "failed"
    assert stored(1)["failure_reason"] == "policy says no"


# -- jobs --------------------------------------------------------------------------------------------


def test_jobs_list_and_show_print_sanitised_text_and_stable_json() -> None:
    job_id = started_video("kling-t2v", "\x1b]0;pwned\x07 evil \u202e title")
    listing = studio("jobs")
    assert listing.returncode == 0, listing.stderr
    (line,) = listing.stdout.splitlines()
    assert line.split()[0] == str(job_id)
    assert "\x1b" not in listing.stdout and "\u202e" not in listing.stdout
    shown = studio("jobs", "show", str(job_id))
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "evil" in shown.stdout and "kling-v2-master" in shown.stdout
    as_json = json.loads(studio("jobs", "list", "--json").stdout)
    assert [job["id"] for job in as_json] == [job_id]
    assert as_json[0]["prompt"] == "\x1b]0;pwned\x07 evil \u202e title"  # exact, escaped
    assert "\x1b" not in studio("jobs", "list", "--json").stdout
    assert set(as_json[0]) >= {"version", "id", "kind", "state", "active", "files", "params"}
    assert json.loads(studio("jobs", "--state", "succeeded", "--json").stdout) == []
    assert len(json.loads(studio("jobs", "list", "--state", "active", "--json").stdout)) == 1


def test_unknown_job_is_bad_input() -> None:
    for args in (["show", "42"], ["wait", "42", "--demo"], ["cancel", "42", "--demo"]):
        result = studio("jobs", *args)
        assert result.returncode == 2
        assert result.stderr == "studio: no job #42 (`studio jobs` lists them)\n"


def test_wait_reports_a_timed_out_job_and_exits_1() -> None:
    job_id = started_video("seedance", f"long {SLOW}")
    with Store.open() as store:
        store.update_job(job_id, deadline_at=time.time() - 1)
    result = studio("jobs", "wait", str(job_id), "--demo")
    assert result.returncode == 1
    assert f"job #{job_id} (video) timed out" in result.stderr
    assert f"studio jobs check {job_id}" in result.stderr
    assert stored(job_id)["state"] == "timed_out"


def test_ctrl_c_during_wait_leaves_the_job_running_and_says_how_to_follow_it() -> None:
    job_id = started_video("seedance", f"long {SLOW}")
    waiting = background("jobs", "wait", str(job_id), "--demo")

    def claimed() -> bool:
        with Store.open() as store:
            job = store.get_job(job_id)
        return job is not None and job.claimed_by is not None and job.poll_count > 0

    wait_until(claimed)
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 130
    assert out == ""
    assert f"follow them again with `studio jobs wait {job_id}`" in err
    assert "Traceback" not in err
    with Store.open() as store:
        job = store.get_job(job_id)
    assert job is not None and job.state.is_active and job.claimed_by is None  # released


def test_run_follows_every_unfinished_job_and_exits_when_none_is_left() -> None:
    first = started_video("seedance", f"one {QUICK}")
    second = started_video("kling-t2v", f"two {QUICK}")
    result = studio("jobs", "run", "--demo")
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith(f"job #{first} (video) done in ")
    assert lines[1].startswith(f"job #{second} (video) done in ")
    assert all(Path(line.rsplit(": ", 1)[1]).is_file() for line in lines)


def test_run_forever_takes_up_a_job_another_process_creates_meanwhile() -> None:
    # The running `jobs run` process's emulator never saw the task: it finds it on disk.
    runner = background("jobs", "run", "--forever", "--demo")
    try:
        job_id = started_video("seedance", f"later {QUICK}")
        wait_until(lambda: stored(job_id)["state"] == "succeeded")
    finally:
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=30)
    assert runner.returncode == 0, err
    assert out.startswith(f"job #{job_id} (video) done in ")
    assert "stopped (SIGTERM)" in err


def test_cancel_retry_and_check_say_what_they_did() -> None:
    job_id = started_video("seedance", f"slow {QUICK}")
    cancelled = studio("jobs", "cancel", str(job_id), "--demo")
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"job #{job_id} cancelled: Stopped tracking" in cancelled.stderr
    assert stored(job_id)["state"] == "cancelled"

    checked = studio("jobs", "check", str(job_id), "--demo")
    assert checked.returncode == 0, checked.stderr
    if stored(job_id)["state"] != "succeeded":  # the task was still running: tracked again
        assert studio("jobs", "wait", str(job_id), "--demo").returncode == 0
    assert stored(job_id)["state"] == "succeeded"  # its result collected after all
    assert Path(stored(job_id)["files"][0]["path"]).is_file()  # type: ignore[index]

    retried = studio("jobs", "retry", str(job_id), "--demo")
    assert retried.returncode == 0, retried.stderr
    new_id = int(retried.stdout)
    assert f"job #{job_id} sent again as job #{new_id}" in retried.stderr
    assert stored(new_id)["retry_of"] == job_id

    again = studio("jobs", "cancel", str(job_id), "--demo")
    assert again.returncode == 1
    assert again.stderr == f"studio: job {job_id} has already ended (succeeded)\n"


def test_notify_command_gets_the_job_once(tmp_path: Path) -> None:
    seen = tmp_path / "seen.jsonl"
    script = tmp_path / "notify.py"
    script.write_text(f"import sys\nopen({str(seen)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    config = studio("config", "set", "notify_command", f"{sys.executable} {script}")
    assert config.returncode == 0, config.stderr
    result = studio("video", "seedance", "--wait", "--demo", f"ping {QUICK}")
    assert result.returncode == 0, result.stderr
    (line,) = seen.read_text().splitlines()
    assert json.loads(line)["state"] == "succeeded"


def test_on_a_terminal_wait_draws_progress_and_notifies_at_the_end() -> None:
    """stderr a terminal (Windows Terminal's OSC 9): the progress line, then at the job's end
    the bell and the desktop notification; stdout (a pipe) gets only the path."""
    main, side = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "video", "seedance", "--wait", "--demo", f"tty {QUICK}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=side,
        env={**os.environ, "WT_SESSION": "1", "COLUMNS": "100"},
    )
    os.close(side)
    out, _ = proc.communicate(timeout=60)
    terminal = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other side is closed and everything was read
            break
        if not chunk:
            break
        terminal += chunk
    os.close(main)
    assert proc.returncode == 0, terminal
    assert Path(out.decode().strip()).is_file()
    shown = terminal.decode()
    assert "\r\x1b[2K" in shown and "#1 " in shown and "(ctrl+c stops waiting)" in shown
    assert "\a\x1b]9;Video job #1 is done" in shown  # the bell, then the notification


def test_a_video_the_gateway_refuses_for_now_is_left_to_be_sent_later() -> None:
    result = studio("video", "seedance", "--demo", "busy [[emulator: fault=429:task]]")
    assert result.returncode == 0, result.stderr
    job_id = int(result.stdout)
    assert result.stderr == (
        f"studio: warning: job #{job_id} is not sent yet (HTTP 429 rate limited); "
        f"`studio jobs wait {job_id}`, `studio jobs run` or the TUI sends it\n"
    )
    payload = stored(job_id)
    assert payload["state"] == "pending" and payload["task_id"] is None


def test_a_dead_gateway_is_said_while_waiting_and_the_job_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import threading

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ANYFAST_BASE_URL", f"http://127.0.0.1:{port}")
    making = background("image", "a cat")
    said: list[str] = []
    assert making.stderr is not None
    reader = threading.Thread(target=lambda: said.extend(making.stderr or ()), daemon=True)
    reader.start()
    wait_until(lambda: any("still trying" in line for line in said))
    making.send_signal(signal.SIGINT)
    making.wait(timeout=30)
    reader.join(timeout=10)
    assert making.returncode == 130
    (line,) = [line for line in said if "still trying" in line]
    assert line.startswith("studio: job #1: gateway unreachable; still trying")
    assert "Traceback" not in "".join(said)
    with Store.open() as store:
        job = store.get_job(1)
    assert job is not None and job.state is JobState.PENDING  # kept, to be sent later
