"""``tradekg serve``: the graph in a browser and on the SPARQL 1.1 Protocol.

One long-lived process holds the current store version in an in-memory
Oxigraph store (``snapshot``), answers pages (``pages``) and the protocol
(``sparql``) from it, and switches to a newly published version atomically
(``snapshot.Current``). ``app`` wires the routes, the security headers and the
token check together. The web stack (Starlette, Jinja2, uvicorn) is imported
only here, so the rest of the command line starts as fast as before.

May import: basics, graph, loaders, answers, export, monitor.
"""
