"""A defensive scanner for CORS misconfigurations of a live site.

Pure parts (hostile origins, the request plan, findings, renderers) import nothing from Django;
the command, the admin page and the attribution to this project's policies are thin edges.
"""
