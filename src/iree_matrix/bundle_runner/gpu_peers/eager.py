"""torch eager on the GPU: the model as it is, each call synchronised."""

from typing import Any

PEER = {"rank": 10, "config": "eager", "display": "torch eager", "mode": "", "source": "{torch} on cuda"}


def load(torch: Any, module: Any) -> Any:
    return module
