#!/usr/bin/env python3
"""Runs the Python examples of the product documents (shared/seeds) against
a real Orchflow server, unchanged but for the base URL and the API key.

usage: run_seed_examples.py PATH/TO/orchflow
Starts the server on a free 127.0.0.1 port with a temporary data dir and
stops it by PID. Exits non-zero if any example misbehaves.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


binary = sys.argv[1]
data = tempfile.mkdtemp(prefix="orchflow-seed-")
port = free_port()
log = open(os.path.join(data, "server.log"), "w")
server = subprocess.Popen(
    [binary, "--listen", f"127.0.0.1:{port}", "--data-dir", f"{data}/db"],
    stdout=log, stderr=subprocess.STDOUT)
try:
    deadline = time.time() + 20
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        if time.time() > deadline or server.poll() is not None:
            sys.exit("server did not start")
        time.sleep(0.05)

    # Registration, as the docs' curl example does it.
    reg = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/register",
                        json={"name": "Tarun", "email": "tarun@example.com"})
    assert reg.status_code == 201, reg.text

    # ---- The seed's watcher, verbatim but for API and api_key ----------------
    API = f"http://127.0.0.1:{port}/api/v1"
    api_key = reg.json()["api_key"]
    headers = {"X-API-Key": api_key}

    def orchflow(method, path, **kwargs):
        response = requests.request(method, f"{API}{path}", headers=headers, timeout=60, **kwargs)
        if not response.ok:
            raise RuntimeError(f"Orchflow {response.status_code}: {response.text}")
        return response.json()

    run = orchflow("POST", "/runs", json={
        "task": "Research competitors, compare pricing, then draft our launch strategy.",
        "agents": [{"name": "research"}, {"name": "analyst"}, {"name": "writer"}],
        "ask_me_about": ["company details", "brand voice"],
        "require_approval": False
    })
    run_id = run["run_id"]
    print("Started run:", run_id)

    def watch():
        while True:
            run = orchflow("GET", f"/runs/{run_id}")
            print("\nRun status:", run["status"])
            for task_id, task in run["subtasks"].items():
                print(f"{task_id}: {task['state']} - {task['name']}")
            waiting = [
                (task_id, task)
                for task_id, task in run["subtasks"].items()
                if task["state"] == "waiting_human"
            ]
            if waiting:
                task_id, task = waiting[0]
                print(f"\nAction needed: answer task {task_id} - {task['name']}")
                return run, task_id
            if run["status"] in ["completed", "failed", "cancelled"]:
                print("\nFinal output:", run.get("final_output"))
                return run, None
            time.sleep(3)

    answered = 0
    while True:
        run, task_id = watch()
        if task_id is None:
            break
        # ---- The seed's answer snippet, verbatim but for the base URL -------
        response = requests.post(
            f"http://127.0.0.1:{port}/api/v1/runs/{run_id}/tasks/{task_id}/complete",
            headers={"X-API-Key": api_key},
            json={
                "output": "Company: a workflow API for AI apps. Brand voice: direct, useful, technical."
            },
            timeout=30
        )
        response.raise_for_status()
        print("Submitted human input. Continue polling the run.")
        answered += 1
    assert run["status"] == "completed", run
    assert answered == 2, answered
    assert "workflow API for AI apps" in run["final_output"]

    # ---- The content-agency example ----------------------------------------
    ORCHFLOW_KEY = api_key
    BASE = API

    def start_content_workflow(brief: str, editor_webhook: str) -> str:
        r = requests.post(f"{BASE}/runs",
            headers={"X-API-Key": ORCHFLOW_KEY},
            json={
                "task": brief,
                "agents": [
                    {"name": "research"},
                    {"name": "analyst"},
                    {"name": "writer"},
                ],
                "ask_me_about": ["client goals", "brand voice", "must-avoid claims"],
                "require_approval": False,
                "webhook_url": editor_webhook,
            }
        )
        return r.json()["run_id"]

    def answer_orchflow(run_id: str, task_id: str, answer: str):
        requests.post(
            f"{BASE}/runs/{run_id}/tasks/{task_id}/complete",
            headers={"X-API-Key": ORCHFLOW_KEY},
            json={"output": answer}
        )

    content_run = start_content_workflow(
        "Write a launch blog post for our scheduling app.",
        f"http://127.0.0.1:{free_port()}/hooks/orchflow")
    for _ in range(200):
        doc = orchflow("GET", f"/runs/{content_run}")
        if doc["status"] == "waiting_human":
            break
        time.sleep(0.05)
    assert doc["waiting_tasks"] == ["T1", "T2", "T3"], doc
    for t in doc["waiting_tasks"]:
        answer_orchflow(content_run, t, f"Answer for {t}")
    for _ in range(400):
        doc = orchflow("GET", f"/runs/{content_run}")
        if doc["status"] == "completed":
            break
        time.sleep(0.05)
    assert doc["status"] == "completed", doc
    print("\nContent workflow completed:", content_run)
    listing = orchflow("GET", "/runs?limit=10&offset=0")
    assert listing["total"] == 2, listing
    print("SEED EXAMPLES OK")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    shutil.rmtree(data, ignore_errors=True)
