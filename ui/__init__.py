"""The only shared Streamlit code: session and login, drafts, navigation, shared widgets."""
