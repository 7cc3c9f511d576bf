-- Every later statement of the connection reads and writes the store's schema.
SET search_path = {schema}
