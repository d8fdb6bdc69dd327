"""The baseline for bench/wechat_roundtrip.py: a bare Flask app that only echoes the body."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/wechat")
def echo():
    return request.get_data(), 200, {"Content-Type": "application/xml"}
