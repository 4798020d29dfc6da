"""Volunteers imported from CSV and .xlsx (all or nothing, each error by its cell), the templates, and
the rota exported as .xlsx."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook, load_workbook

from tests.api.conftest import publish, solve
from tests.api.console.conftest import sign_in


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(console, csrf, name: str, content: bytes):
    return console.post("/console/people/import", data={"csrf": csrf}, files={"file": (name, content)},
                        follow_redirects=False)


def problems(html: str) -> list[tuple[str, str]]:
    return re.findall(r"<td><strong>([A-Z]+\d+)</strong></td><td>([^<]*)</td>", html)


def test_a_bad_row_is_named_by_its_cell_and_nothing_is_imported(console, client, site):
    csrf = sign_in(console, site)
    rows = [("id", "name", "phone", "skills", "max_hours_per_week"),
            ("v101", "Li Wei", "+86 138 0000 0101", "medical, driver", 24),
            ("v102", "Wang Fang", "", "", "many"),
            ("v103", "", "", "", ""),
            ("v101", "Li Wei again", "", "", ""),
            ("v104", "Chen Jie", "", "bad skill!", 500)]
    response = upload(console, csrf, "people.xlsx", xlsx(rows))
    assert response.status_code == 422
    found = dict(problems(response.text))
    assert "number of hours" in found["E3"]
    assert "at least 1 character" in found["B4"]
    assert "the same id as row 2" in found["A5"]
    assert "pattern" in found["D6"] and "less than or equal to 168" in found["E6"]
    assert "Nothing was imported" in response.text
    ids = {v["id"] for v in client.get(f"{site.url}/volunteers", headers=site.headers).json()}
    assert "v101" not in ids


def test_a_good_sheet_adds_and_updates(console, client, site):
    csrf = sign_in(console, site)
    before = client.get(f"{site.url}/volunteers/v003", headers=site.headers).json()
    text = "id,name,phone,skills,max_hours_per_week\nv101,李伟,+86 138 0000 0101,\"medical, driver\",24\n" \
           "v003,Ivan B.,+380 44 000 0000,,\n"
    response = upload(console, csrf, "people.csv", text.encode("gb18030"))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/people/import?added=1&updated=1"
    added = client.get(f"{site.url}/volunteers/v101", headers=site.headers).json()
    assert added["name"] == "李伟" and added["skills"] == ["medical", "driver"]
    assert added["max_hours_per_week"] == 24
    updated = client.get(f"{site.url}/volunteers/v003", headers=site.headers).json()
    assert updated["name"] == "Ivan B." and updated["contact"]["phone"] == "+380 44 000 0000"
    assert updated["availability"] == before["availability"]  # what the sheet has no column for is kept
    assert updated["max_hours_per_week"] is None  # an empty cell clears the cap
    assert "1 added, 1 updated" in console.get(response.headers["location"]).text


def test_headers_and_unreadable_files(console, site):
    csrf = sign_in(console, site)
    response = upload(console, csrf, "x.csv", b"name,shoe size\nA,42\n")
    found = dict(problems(response.text))
    assert "unknown column" in found["B1"] and "“id” is required" in found["A1"]
    broken = upload(console, csrf, "x.xlsx", b"PK\x03\x04 not really a zip")
    assert broken.status_code == 422 and 'id="file-error"' in broken.text and "xlsx" in broken.text
    none = console.post("/console/people/import", data={"csrf": csrf})
    assert none.status_code == 422 and "choose a .csv or .xlsx file" in none.text
    refused = console.post("/console/people/import", files={"file": ("x.csv", b"id,name\nv9,X\n")})
    assert refused.status_code == 403


def test_the_templates_import_as_they_are(console, client, site):
    csrf = sign_in(console, site)
    for name in ("template.csv", "template.xlsx"):
        template = console.get(f"/console/people/import/{name}")
        assert template.status_code == 200 and "attachment" in template.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(console.get("/console/people/import/template.xlsx").content)).active
    assert [c.value for c in sheet[1]] == ["id", "name", "phone", "email", "skills", "max_hours_per_week"]
    response = upload(console, csrf, "t.csv", console.get("/console/people/import/template.csv").content)
    assert response.status_code == 303
    assert client.get(f"{site.url}/volunteers/v101", headers=site.headers).status_code == 200


def test_the_rota_exports_as_xlsx(console, client, site, worker):
    sign_in(console, site)
    assert console.get("/console/rota.xlsx").status_code == 404
    job = solve(client, worker, site, time_limit=1.5)
    publish(client, site, job["id"])
    response = console.get("/console/rota.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["assignments", "gaps", "people x days"]
    rows = list(workbook["assignments"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(client.get(f"{site.url}/schedule/assignments", headers=site.headers).json())
    assert workbook["people x days"].max_row == 1 + len(client.get(f"{site.url}/volunteers",
                                                                   headers=site.headers).json())
