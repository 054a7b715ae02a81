// Module ModelBundle: being written this session.
