"""Write each <script> once per page.

Under Sphinx 7.4, inline scripts that extensions add after the builder starts (sphinx-thebe's
configuration, sphinx-togglebutton's selector) reach the page twice with different priorities;
the second ``const THEBE_JS_URL`` is a browser console error ("Identifier 'THEBE_JS_URL' has
already been declared"). Keep the first of each (file name, attributes) pair.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
