// Module CLIPText: being written this session.
