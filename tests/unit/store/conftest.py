from __future__ import annotations

import pytest

from sensor.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.open(str(tmp_path / "otsensor.db")) as opened:
        yield opened
