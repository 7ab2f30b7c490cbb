"""`zhixing documents sample`: the sample notice, sealed where the documents app puts the seal."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhixing.esign import verification


@pytest.mark.django_db
def test_sample_notice_sealed(courts, tmp_path):
    target = tmp_path / "sample.pdf"
    out = StringIO()
    call_command("documents", "sample", "--court", "粤0104", "--out", str(target), stdout=out)
    assert "广州市越秀区人民法院" in out.getvalue()
    report = verification.verify_pdf(target.read_bytes())
    assert report.valid
    assert report.signatures[0].court_code == "粤0104"


@pytest.mark.django_db
def test_sample_unknown_court(courts, tmp_path):
    with pytest.raises(CommandError, match="not found"):
        call_command(
            "documents",
            "sample",
            "--court",
            "粤9999",
            "--out",
            str(tmp_path / "x.pdf"),
            stdout=StringIO(),
        )
