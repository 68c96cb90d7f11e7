// The registered properties, in report order: one line each. A property `x` is the file
// properties/x.cpp defining `const Property& mpconform::properties::x_property()`.
// (No include guard: included with different definitions of MPC_PROPERTY.)
MPC_PROPERTY(queue)
MPC_PROPERTY(lock)
MPC_PROPERTY(tickets)
MPC_PROPERTY(joinable)
MPC_PROPERTY(timeouts)
MPC_PROPERTY(daemon)
MPC_PROPERTY(pipe)
MPC_PROPERTY(value)
