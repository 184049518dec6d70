"""The statistics table: what each unit answered, the totals, and the documents made of them."""
