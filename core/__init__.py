"""Muskel's domain: models, services and rules, with no Streamlit in sight.

Everything here can be used from the web pages, the `muskel` command line and the tests alike.
"""
