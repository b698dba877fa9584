"""Spark Agents in the browser: `spark-agents ui` runs `streamlit run` on this file."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="Spark Agents", page_icon="⚡", layout="wide")

pages = [
    st.Page(HERE / "app_pages" / "chat.py", title="Chat", icon="💬", url_path="chat", default=True),
    st.Page(HERE / "app_pages" / "sources.py", title="Documents", icon="📄", url_path="sources"),
    st.Page(HERE / "app_pages" / "graph.py", title="Knowledge graph", icon="🕸️", url_path="graph"),
    st.Page(HERE / "app_pages" / "models.py", title="Models", icon="🖥️", url_path="models"),
]
page = st.navigation(pages)
page.run()
