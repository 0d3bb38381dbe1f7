import os
from pathlib import Path

from django.conf import settings


def test_tests_run_in_test_env_with_a_throwaway_data_dir():
    assert settings.HELPLINE_ENV == "test"
    assert Path(os.environ["HELPLINE_DATA_DIR"]).resolve() == settings.DATA_DIR
    assert (Path.cwd() / "helpline-data").resolve() != settings.DATA_DIR
    # Tasks run inline under tests unless a Redis queue was asked for.
    assert settings.HUEY["immediate"] or settings.REDIS_URL
