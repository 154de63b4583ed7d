"""The load of issue 11: each simulated user lists their predictions (70%), opens one (20%) or uploads a picture
and waits for its answer (10%, `?wait=10`), waiting 0.5 to 1.5 s between requests. Run by bench/loadtest.py
(`make loadtest`), which makes the accounts (one per simulated user, in LOADTEST_ACCOUNTS) and the server.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

ACCOUNTS = json.loads(open(os.environ["LOADTEST_ACCOUNTS"]).read())
PICTURE = open(os.environ["LOADTEST_PICTURE"], "rb").read()
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "200000"))
_next_account = itertools.count()
_requests = itertools.count(1)


_environment = None


@events.init.add_listener
def remember_environment(environment, **_kwargs) -> None:
    global _environment
    _environment = environment


@events.request.add_listener
def stop_after_max_requests(**_kwargs) -> None:
    # A bound on the whole run besides its duration: the runner stops by itself after so many requests.
    if next(_requests) == MAX_REQUESTS and _environment is not None and _environment.runner is not None:
        _environment.runner.quit()


def multipart(picture: bytes) -> tuple[bytes, str]:
    boundary = "digitsite-loadtest-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="one.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + picture
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


UPLOAD_BODY, UPLOAD_TYPE = multipart(PICTURE)


class SiteUser(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.headers = {"Authorization": f"Token {account['token']}"}
        self.prediction_ids = account["prediction_ids"]

    @task(70)
    def list_predictions(self) -> None:
        self.client.get("/api/v1/predictions/", headers=self.headers, name="list")

    @task(20)
    def open_prediction(self) -> None:
        prediction_id = self.prediction_ids[next(_requests) % len(self.prediction_ids)]
        self.client.get(f"/api/v1/predictions/{prediction_id}/", headers=self.headers, name="detail")

    @task(10)
    def upload_and_wait(self) -> None:
        with self.client.post(
            "/api/v1/predictions/?wait=10",
            headers={**self.headers, "Content-Type": UPLOAD_TYPE},
            data=UPLOAD_BODY,
            name="upload ?wait=10",
            catch_response=True,
        ) as response:
            # 202 is an answer too (the wait ran out, or too many waits): not an error, but counted apart.
            if response.status_code == 202:
                response.request_meta["name"] = "upload ?wait=10 (202, not finished)"
            if response.status_code in (201, 202):
                response.success()
