#!/usr/bin/python3
"""Writes assets/imagenet-classes.json: ImageNet-1k's class names in torchvision's order.

Dev-time only. Needs Debian's python3-torchvision (apt-get install -y python3-torchvision);
run with the system Python: /usr/bin/python3 scripts/imagenet-classes.py
"""
import json
import pathlib

from torchvision.models._meta import _IMAGENET_CATEGORIES

assert len(_IMAGENET_CATEGORIES) == 1000, len(_IMAGENET_CATEGORIES)
out = pathlib.Path(__file__).resolve().parent.parent / "assets" / "imagenet-classes.json"
out.write_text(json.dumps(list(_IMAGENET_CATEGORIES), indent=0) + "\n")
print(f"wrote {out} ({len(_IMAGENET_CATEGORIES)} classes)")
