"""The Panel web workbench. It holds no business rules: every rule lives in ``workbench``."""
