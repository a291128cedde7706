"""The plugin machinery: the hook specifications (:mod:`core.plugins.hookspecs`), the values hooks take and
return (:mod:`core.plugins.types`), the manager that loads built-in and third-party plugins
(:mod:`core.plugins.manager`) and the runner that calls a hook under a deadline (:mod:`core.plugins.runner`).

The plugin implementations themselves live outside the kernel, in the top-level ``plugins`` package and in
third parties' distributions."""
