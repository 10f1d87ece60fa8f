"""The sample organization of `make demo`: real open-source packages turned into git repos.

`packages` lists them, `fetch` downloads their release archives, `build` makes the repos.
"""
