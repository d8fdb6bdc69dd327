"""Merchants in the mini-program: the directory near the community (open now, hours, coupons), claiming a
coupon, my coupons, and the short-lived code to show at the shop."""

from __future__ import annotations

from flask import jsonify
from pydantic import Field

from app.binding.me_api import current_resident
from app.core.clock import local_now
from app.core.db import db
from app.merchants import coupons, directory
from app.merchants.models import Coupon, CouponClaim, Merchant
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.validation import Query, Text

TAGS = ("merchants",)
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409, 422)}
COMPONENTS["Coupon"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
    "value": {"type": "number", "description": "面值（元）"}, "left": {"type": "integer"},
    "per_resident": {"type": "integer"}}}
COMPONENTS["Merchant"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "address": {"type": "string"}, "walk_minutes": {"type": "integer"}, "hours": {"type": "string"},
    "open_now": {"type": "boolean"}, "phone": {"type": "string"}, "licence_verified": {"type": "boolean"},
    "coupons": {"type": "array", "items": ref("Coupon")}}}
COMPONENTS["CouponClaim"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["issued", "redeemed"]},
    "coupon": ref("Coupon"), "merchant": {"type": "string"},
    "code": {"type": "string", "nullable": True, "description": "6位核销码，10分钟内有效"},
    "code_expires_at": {"type": "string", "format": "date-time", "nullable": True}}}
CLAIM_OK = {"description": "成功", **ref("CouponClaim")}


class MerchantsQuery(Query):
    """All active merchants nearest first, or those matching q (修鞋, 水果店)."""

    q: Text(30) = Field(None, title="找什么", examples=["修鞋"])


def coupon_json(c: Coupon) -> dict:
    """A coupon as residents see it."""
    return {"id": c.id, "title": c.title, "description": c.description or "", "value": c.value_cents / 100,
            "left": max(c.stock - c.claimed, 0), "per_resident": c.per_resident}


def merchant_json(m: Merchant) -> dict:
    """A merchant as residents see it."""
    return {"id": m.id, "name": m.name, "kind": m.kind, "address": m.address, "walk_minutes": m.walk_minutes,
            "hours": directory.hours_label(m), "open_now": directory.is_open(m, local_now()), "phone": m.phone,
            "licence_verified": m.licence_verified,
            "coupons": [coupon_json(c) for c in coupons.coupons_of(db.session, m)]}


def claim_json(row: CouponClaim) -> dict:
    """One of the resident's coupons."""
    return {"id": row.id, "status": row.status, "coupon": coupon_json(row.coupon), "merchant": row.coupon.merchant.name,
            "code": row.code if row.status == "issued" else None,
            "code_expires_at": row.code_expires_at.isoformat() + "Z" if row.code_expires_at and row.status == "issued"
            else None}


@api_route("/merchants", summary="周边商户（15分钟生活圈）", tags=TAGS, query=MerchantsQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "merchants": {"type": "array", "items": ref("Merchant")}}}, 403: ERROR_RESPONSES[403],
               422: ERROR_RESPONSES[422]})
def merchants_list(query: MerchantsQuery):
    """The community's active merchants, nearest first, with hours, whether open now, and their coupons."""
    rows = directory.find(db.session, current_resident().community_id, query.q or None)
    return jsonify({"merchants": [merchant_json(m) for m in rows]})


@api_route("/coupons/<id:coupon_id>/claim", methods=("POST",), summary="领取优惠券", tags=TAGS,
           responses={201: CLAIM_OK, **ERRORS})
def coupons_claim(coupon_id: int):
    """Take one coupon (409 coupon_out_of_stock, coupon_limit)."""
    row = coupons.claim(db.session, current_resident(), coupon_id)
    return jsonify(claim_json(row)), 201


@api_route("/coupons/mine", summary="我的优惠券", tags=TAGS, responses={200: {"description": "成功", "type": "object",
           "properties": {"claims": {"type": "array", "items": ref("CouponClaim")}}}, 403: ERROR_RESPONSES[403]})
def coupons_mine():
    """The resident's coupons, newest first."""
    return jsonify({"claims": [claim_json(r) for r in coupons.my_claims(db.session, current_resident())]})


@api_route("/coupons/claims/<id:claim_id>/code", methods=("POST",), summary="出示核销码（6位，10分钟有效）",
           tags=TAGS, responses={200: CLAIM_OK, **ERRORS})
def coupons_code(claim_id: int):
    """A fresh 6-digit code for an unused coupon, valid 10 minutes, to show at the shop."""
    row = coupons.show_code(db.session, coupons.claim_of(db.session, claim_id, current_resident()))
    return jsonify(claim_json(row))
