-- JIT compilation time: generation, inlining, optimisation and emission.
sum(s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time
    + s.jit_emission_time)::float8
