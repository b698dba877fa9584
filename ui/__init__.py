"""The Streamlit front end (`spark-agents ui`): a thin adapter over agents/, rag/, kg/ and serving/."""
