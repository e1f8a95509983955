"""A stand-in for ``func start`` (Azure Functions Core Tools, not installable here), run by the
python of the venv docs/azure.md builds, in the function app folder.

Like the Functions host it puts the app folder on ``sys.path``, reads ``local.settings.json``'s
``Values`` into the environment, imports ``function_app`` and calls its registered functions: HTTP
requests as ``azure.functions.HttpRequest`` to the HTTP function, ``POST /admin/functions/NAME``
(the host's admin API for non-HTTP functions) to the timer. Webhooks for rooms named ``lost-…``
are answered 200 and dropped, as if lost on the way, so a test can watch the timer repair them.

Usage: python function_host.py PORT. Prints ``listening IMPORT_SECONDS`` once it serves.
"""

import json
import logging
import os
import sys
import time

import azure.functions as func
from aiohttp import web

LOST_PREFIX = "lost-"


class _Context:
    invocation_id = "function-host"
    function_name = "http_app_func"
    function_directory = ""
    thread_local_storage = None
    trace_context = None
    retry_context = None


def load_app():
    sys.path.insert(0, os.getcwd())
    with open("local.settings.json") as settings:
        os.environ.update(json.load(settings)["Values"])
    started = time.perf_counter()
    import function_app

    seconds = time.perf_counter() - started
    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    return functions, seconds


def main(port: int) -> None:
    logging.basicConfig(level=logging.INFO)  # host.json: logLevel Information
    functions, seconds = load_app()
    http_function = functions["http_app_func"].get_user_function()

    async def admin(request: web.Request) -> web.Response:
        function = functions.get(request.match_info["name"])
        if function is None:
            return web.Response(status=404)
        await function.get_user_function()(func.timer.TimerRequest(past_due=False))
        return web.Response(status=202)

    async def http(request: web.Request) -> web.Response:
        body = await request.read()
        if request.path == "/livekit/webhook" and body:
            room = json.loads(body).get("room", {}).get("name", "")
            if room.startswith(LOST_PREFIX):
                return web.Response(status=200, text="{}")
        answer = await http_function(
            func.HttpRequest(
                method=request.method,
                url=str(request.url),
                headers=dict(request.headers),
                params=dict(request.query),
                route_params={"route": request.path.lstrip("/")},
                body=body,
            ),
            _Context(),
        )
        return web.Response(
            status=answer.status_code,
            body=answer.get_body(),
            headers={k: v for k, v in answer.headers.items() if k.lower() != "content-length"},
        )

    async def started(_app: web.Application) -> None:
        print(f"listening {seconds:.3f}", flush=True)

    app = web.Application()
    app.router.add_post("/admin/functions/{name}", admin)
    app.router.add_route("*", "/{tail:.*}", http)
    app.on_startup.append(started)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
