"""Common questions in the console: list, add, edit, deactivate and restore, try a question; CSRF, roles,
one community's staff never touching another's entries, and output escaped."""

from __future__ import annotations

import pytest
from console_forms import login, post
from sqlalchemy import select

from app.core.db import db
from app.faq.models import FaqEntry


@pytest.fixture
def staff_in(client, make_staff, make_community, db_session):
    community = make_community("和睦新村")
    db_session.commit()

    def sign_in(role="property", community=community):
        staff = make_staff(role, password="right-password", community=community)
        db_session.commit()
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def _entries() -> list[FaqEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(FaqEntry).order_by(FaqEntry.id)))


ADD = {"question": "物业电话是多少", "answer": "0571-8806 2026，24小时值班",
       "synonyms": "物业电话\n怎么联系物业，物业联系方式", "category": "物业服务"}


@pytest.mark.parametrize("role", ["property", "admin"])
def test_staff_add_list_edit_deactivate_and_restore_an_entry(client, staff_in, role):
    staff = staff_in(role)
    assert post(client, "/console/faq", ADD).status_code == 303
    [entry] = _entries()
    assert (entry.community_id, entry.question, entry.category, entry.active) == (
        staff.community_id, "物业电话是多少", "物业服务", True)
    assert entry.synonyms == ["物业电话", "怎么联系物业", "物业联系方式"]
    assert entry.updated_by_id == staff.id
    html = client.get("/console/faq").get_data(as_text=True)
    assert f'id="faq-{entry.id}"' in html and "怎么联系物业" in html and "常见问题" in html

    edit = client.get(f"/console/faq/{entry.id}").get_data(as_text=True)
    assert 'name="csrf_token"' in edit and "0571-8806 2026" in edit
    changed = {**ADD, "answer": "0571-8806 2027", "synonyms": "物业电话", "category": ""}
    assert post(client, f"/console/faq/{entry.id}", changed).status_code == 303
    [entry] = _entries()
    assert (entry.answer, entry.synonyms, entry.category) == ("0571-8806 2027", ["物业电话"], None)

    assert post(client, f"/console/faq/{entry.id}/deactivate").status_code == 303
    assert _entries()[0].active is False
    assert "已停用" in client.get("/console/faq").get_data(as_text=True)
    assert post(client, f"/console/faq/{entry.id}/activate").status_code == 303
    assert _entries()[0].active is True


def test_a_form_without_the_csrf_token_is_refused(client, staff_in):
    staff_in()
    response = client.post("/console/faq", data=ADD)
    assert response.status_code == 400 and _entries() == []
    assert post(client, "/console/faq", ADD).status_code == 303
    [entry] = _entries()
    assert client.post(f"/console/faq/{entry.id}/deactivate").status_code == 400
    assert _entries()[0].active is True


@pytest.mark.parametrize("role", ["repair_worker", "doctor", "committee"])
def test_other_roles_may_neither_see_nor_change_entries(client, staff_in, role, db_session):
    staff = staff_in(role)
    entry = FaqEntry(community_id=staff.community_id, question="物业电话是多少", answer="0571", synonyms=[])
    db_session.add(entry)
    db_session.commit()
    assert client.get("/console/faq").status_code == 403
    assert post(client, "/console/faq", ADD).status_code == 403
    assert post(client, f"/console/faq/{entry.id}/deactivate").status_code == 403
    assert "常见问题" not in client.get("/console/").get_data(as_text=True)  # not in their menu
    assert len(_entries()) == 1 and _entries()[0].active


def test_signed_out_the_pages_send_to_the_login(client):
    response = client.get("/console/faq")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_another_communitys_entry_is_not_found(client, staff_in, make_community, db_session):
    staff_in()
    other = make_community("别的小区")
    entry = FaqEntry(community_id=other.id, question="物业电话是多少", answer="别人的", synonyms=[])
    db_session.add(entry)
    db_session.commit()
    assert client.get(f"/console/faq/{entry.id}").status_code == 404
    assert post(client, f"/console/faq/{entry.id}", ADD).status_code == 404
    assert post(client, f"/console/faq/{entry.id}/deactivate").status_code == 404
    assert "别人的" not in client.get("/console/faq").get_data(as_text=True)
    assert _entries()[0].answer == "别人的" and _entries()[0].active


def test_bad_input_and_a_repeated_question_are_refused_with_a_message(client, staff_in):
    staff_in()
    response = post(client, "/console/faq", {**ADD, "answer": "  "}, follow_redirects=True)
    assert "请填写回答" in response.get_data(as_text=True) and _entries() == []
    assert post(client, "/console/faq", {**ADD, "question": "问" * 101}, follow_redirects=True).status_code == 200
    assert _entries() == []
    post(client, "/console/faq", ADD)
    response = post(client, "/console/faq", ADD, follow_redirects=True)
    assert "已有相同的问题" in response.get_data(as_text=True) and len(_entries()) == 1
    post(client, "/console/faq", {**ADD, "question": "物业几点上班", "answer": "8:00"})
    first, second = _entries()
    response = post(client, f"/console/faq/{second.id}", {**ADD, "answer": "8:00"}, follow_redirects=True)
    assert "已有相同的问题" in response.get_data(as_text=True)
    assert _entries()[1].question == "物业几点上班"


def test_what_staff_wrote_is_escaped(client, staff_in):
    staff_in()
    post(client, "/console/faq", {**ADD, "question": "<script>alert(1)</script>", "answer": "<b>粗</b>"})
    html = client.get("/console/faq").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    [entry] = _entries()
    assert "<b>粗</b>" not in client.get(f"/console/faq/{entry.id}").get_data(as_text=True)


def test_trying_a_question_shows_which_entry_would_answer(client, staff_in):
    staff_in()
    post(client, "/console/faq", ADD)
    html = client.get("/console/faq", query_string={"try": "物业电话多少"}).get_data(as_text=True)
    assert 'id="faq-tried"' in html and "会回答：<strong>物业电话是多少</strong>" in html
    html = client.get("/console/faq", query_string={"try": "游泳池几点开"}).get_data(as_text=True)
    assert "没有足够接近的问题" in html
