typedef int (*f)(int);
struct a { int b; } c;
#define X(a) \
  a
SYSCALL_DEFINE1(x, int, y)
{
}
