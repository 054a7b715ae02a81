// Module ImageAPI: being written this session.
