// The host launcher: runs every (block, thread) of a 1-D grid in order.
//
// A kernel is exported to Python (ctypes) as two C functions:
//   void        launch_<name>_<T>(unsigned grid, unsigned block, void** args)
//   const char* signature_<name>_<T>()
// `args` points at the kernel's arguments, one pointer per parameter, like
// the kernelParams of cuLaunchKernel; the signature ("const float*,float*,
// long long,int,...") lets the Python side check every argument it packs
// against the C parameter list before the launch.
#pragma once
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

template <typename T> struct type_name;
template <> struct type_name<int> { static std::string get() { return "int"; } };
template <> struct type_name<long long> { static std::string get() { return "long long"; } };
template <> struct type_name<float> { static std::string get() { return "float"; } };
template <> struct type_name<double> { static std::string get() { return "double"; } };
template <typename T> struct type_name<const T> {
    static std::string get() { return "const " + type_name<T>::get(); }
};
template <typename T> struct type_name<T*> {
    static std::string get() { return type_name<T>::get() + "*"; }
};

template <typename... A>
const char* signature_of(void (*)(A...))
{
    static const std::string text = [] {
        std::string s;
        ((s += (s.empty() ? "" : ",") + type_name<A>::get()), ...);
        return s;
    }();
    return text.c_str();
}

// kernel(*(A0*)args[0], *(A1*)args[1], ...)
template <typename... A, std::size_t... I>
void call_with(void (*kernel)(A...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<A*>(args[I])...);
}

template <typename... A>
void run_grid(void (*kernel)(A...), unsigned grid, unsigned block, void** args)
{
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned b = 0; b < grid; ++b) {
        blockIdx = {b, 0, 0};
        for (unsigned t = 0; t < block; ++t) {
            threadIdx = {t, 0, 0};
            call_with(kernel, args, std::index_sequence_for<A...>{});
        }
    }
}

#define EXPORT_KERNEL(name, T)                                                   \
    extern "C" void launch_##name##_##T(unsigned grid, unsigned block, void** args) \
    { run_grid(&name<T>, grid, block, args); }                                   \
    extern "C" const char* signature_##name##_##T() { return signature_of(&name<T>); }
