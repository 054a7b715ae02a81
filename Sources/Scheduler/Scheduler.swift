// Module Scheduler: being written this session.
