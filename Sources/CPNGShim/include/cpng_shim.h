// placeholder until the PNG shim lands
int cpng_shim_placeholder(void);
