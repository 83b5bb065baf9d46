"""Staff search: find a report by its number, a tracking link, words of its description or
address, or (for staff who may read it) the reporter's e-mail address, across statuses."""
