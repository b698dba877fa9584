"""One module per page; each exposes `render()`. The page scripts under ui/pages/ only call it."""
