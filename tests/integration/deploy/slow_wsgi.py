"""The real app plus one slow route, so a test can SIGTERM gunicorn while a request is in flight."""
import os
import time
from pathlib import Path

from webapp import create_app
from webapp.security import public

app = create_app()


@public
def slow():
    Path(os.environ["SLOW_REQUEST_MARKER"]).touch()  # the test signals gunicorn once this exists
    time.sleep(2)
    return "finished\n"


app.add_url_rule("/_test/slow", "test_slow", slow)
