"""Built-in plugins, loaded like any third party through the ``loanfactory`` entry-point group."""
