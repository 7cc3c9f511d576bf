SELECT id, body FROM layouts
