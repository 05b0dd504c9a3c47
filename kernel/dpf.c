// Packet filters (DPF): the kernel's check of a downloaded filter, and
// the merged table that decides which filter, if any, a frame is for.
//
// What the kernel guarantees (the filter language is in abi.h):
//  - A filter is 1..DPF_ALTS alternatives separated by DPF_OR terms; each
//    alternative is a member of the merged table of its own, and all that
//    follows holds for each (a frame matches the filter if it matches any
//    of its alternatives). A filter's own alternatives may overlap.
//  - An alternative is checked once, at download, and refused (-E_BADFILTER)
//    unless it has 1..DPF_TERMS terms, each of length 1, 2 or 4, with
//    offset + length <= NET_FRAME_MAX, a nonzero mask within the field and
//    a value within the mask. There are no loops or jumps to check: a
//    filter is a list of comparisons, run once each.
//  - At run time a term that would read past the frame does not match:
//    a filter reads only the frame.
//  - Merging: filters alike in every term but the value of the last one
//    form a class (the order of the other terms does not matter: they are
//    kept sorted). A frame is tested against each class's other terms
//    once; its last field is then looked up in the class's hash table. So
//    a frame costs one test per class, not per filter: a thousand UDP
//    ports are one class.
//  - No stealing: a filter is refused with -E_CLAIMED if some frame could
//    pass both it and a filter of another environment's (every byte both
//    test agrees under both masks), or if it is one the table holds
//    already, whoever's it is (the same class and value). So a more
//    specific filter cannot take part of another's frames: "port 7000
//    from this host" is refused while someone holds port 7000. A filter
//    whose own terms contradict each other matches nothing: -E_BADFILTER.
//  - One environment's own filters may overlap: classes are tried most
//    terms first (the most specific wins); among classes with as many
//    terms, the older first.
//
// Filters are named by their slot in net.c's table (0..NET_FILTERS-1);
// net.c owns them (who, the ring) and calls dpf_insert and dpf_remove.
// Alternative a of filter f is member f * DPF_ALTS + a of the table.

#include "defs.h"

#define DPF_CLASSES 16
#define HASH_BITS   6
#define BUCKETS     (1 << HASH_BITS)
#define MEMBERS     (NET_FILTERS * DPF_ALTS)

struct dpf_class {
  int nterms;                       // 0: unused
  struct dpf_term term[DPF_TERMS];  // the last term's value is not used: it is the key
  int nfilters;
  uint16 bucket[BUCKETS];  // first member of each hash chain, + 1; 0: empty
};

struct member {
  uint8 cls;     // its class + 1; 0: not installed
  uint16 next;   // the next member on its hash chain, + 1; 0: the end
  uint32 key;    // its last term's value
  uint32 owner;  // the environment that installed it
};

static struct dpf_class classes[DPF_CLASSES];
static uint8 order[DPF_CLASSES];  // the classes in use, in the order frames try them
static int nclasses;
static struct member members[MEMBERS];
// The filter being downloaded, byte by byte: the bits of frame byte i it
// tests (0: none) and the values they must have. Kept all zero between
// downloads.
static uint8 test_mask[NET_FRAME_MAX], test_value[NET_FRAME_MAX];

_Static_assert(MEMBERS < 65536 && DPF_CLASSES < 256, "uint16 and uint8 links");

// The hash chain for value key.
static uint32 hash(uint32 key)
{
  return (key * 2654435761U) >> (32 - HASH_BITS);
}

// Is term t one the kernel accepts (the rules at the top)?
static int term_ok(const struct dpf_term *t)
{
  if (t->length != 1 && t->length != 2 && t->length != 4)
    return 0;
  uint64 field = t->length == 4 ? 0xFFFFFFFFUL : (1UL << (8 * t->length)) - 1;
  return t->offset + t->length <= NET_FRAME_MAX && t->mask != 0 && (t->mask & ~field) == 0 &&
         (t->value & ~t->mask) == 0;
}

// Do terms a and b test the same field the same way (value aside)?
static int same_test(const struct dpf_term *a, const struct dpf_term *b)
{
  return a->offset == b->offset && a->length == b->length && a->mask == b->mask;
}

// Does term a sort before b? (By field, then value.)
static int term_before(const struct dpf_term *a, const struct dpf_term *b)
{
  if (a->offset != b->offset)
    return a->offset < b->offset;
  if (a->length != b->length)
    return a->length < b->length;
  if (a->mask != b->mask)
    return a->mask < b->mask;
  return a->value < b->value;
}

// The class of filters like t (n terms, the first n - 1 sorted), or -1.
static int class_of(const struct dpf_term *t, int n)
{
  for (int c = 0; c < DPF_CLASSES; c++) {
    struct dpf_class *k = &classes[c];
    if (k->nterms != n || !same_test(&k->term[n - 1], &t[n - 1]))
      continue;
    int i = 0;
    while (i < n - 1 && same_test(&k->term[i], &t[i]) && k->term[i].value == t[i].value)
      i++;
    if (i == n - 1)
      return c;
  }
  return -1;
}

// A new class for filters like t, placed in the order after every class
// with as many terms or more. Returns it, or -1 if the table is full.
static int class_new(const struct dpf_term *t, int n)
{
  int c = 0;
  while (c < DPF_CLASSES && classes[c].nterms != 0)
    c++;
  if (c == DPF_CLASSES)
    return -1;
  classes[c].nterms = n;
  memmove(classes[c].term, t, n * sizeof(*t));
  int at = nclasses;
  while (at > 0 && classes[order[at - 1]].nterms < n) {
    order[at] = order[at - 1];
    at--;
  }
  order[at] = c;
  nclasses++;
  return c;
}

// Byte i (0: the first, most significant) of term t's mask and value.
static uint8 mask_byte(const struct dpf_term *t, int i)
{
  return t->mask >> (8 * (t->length - 1 - i));
}

static uint8 value_byte(const struct dpf_term *t, int i)
{
  return t->value >> (8 * (t->length - 1 - i));
}

// Spread the n terms t over test_mask and test_value (undo: 0 clears
// them again). Returns 0 if two of them contradict each other.
static int spread(const struct dpf_term *t, uint64 n, int undo)
{
  int consistent = 1;
  for (uint64 k = 0; k < n; k++)
    for (int i = 0; i < t[k].length; i++) {
      int at = t[k].offset + i;
      uint8 m = mask_byte(&t[k], i), v = value_byte(&t[k], i);
      if ((test_value[at] ^ v) & test_mask[at] & m)
        consistent = 0;
      test_mask[at] = undo ? 0 : test_mask[at] | m;
      test_value[at] = undo ? 0 : test_value[at] | v;
    }
  return consistent;
}

// Could a frame pass both the spread filter and installed filter g?
// (Yes unless a byte both test must differ.)
static int overlaps(int g)
{
  struct dpf_class *k = &classes[members[g].cls - 1];
  for (int j = 0; j < k->nterms; j++) {
    struct dpf_term t = k->term[j];
    if (j == k->nterms - 1)
      t.value = members[g].key;
    for (int i = 0; i < t.length; i++)
      if ((test_value[t.offset + i] ^ value_byte(&t, i)) & test_mask[t.offset + i] &
          mask_byte(&t, i))
        return 0;
  }
  return 1;
}

// Is the spread filter one no frame of another environment's filters
// could also pass?
static int unclaimed(uint32 owner)
{
  for (int g = 0; g < MEMBERS; g++)
    if (members[g].cls != 0 && members[g].owner != owner && overlaps(g))
      return 0;
  return 1;
}

// The member of class c whose key is key, + 1; 0 if none.
static uint32 lookup(struct dpf_class *c, uint32 key)
{
  uint32 f = c->bucket[hash(key)];
  while (f != 0 && members[f - 1].key != key)
    f = members[f - 1].next;
  return f;
}

// Check the n terms t of one alternative (which may be reordered),
// installed by environment owner, and merge it into the table as member
// m. Returns 0, -E_BADFILTER, -E_CLAIMED, or -E_AGAIN if it would need a
// class and none is free.
static long insert_member(int m, uint32 owner, struct dpf_term *t, uint64 n)
{
  if (n == 0 || n > DPF_TERMS)
    return -E_BADFILTER;
  for (uint64 i = 0; i < n; i++)
    if (!term_ok(&t[i]))
      return -E_BADFILTER;
  int consistent = spread(t, n, 0), ours = consistent && unclaimed(owner);
  spread(t, n, 1);
  if (!consistent)
    return -E_BADFILTER;
  if (!ours)
    return -E_CLAIMED;
  for (uint64 i = 1; i + 1 < n; i++)  // sort all but the last (insertion sort: n is small)
    for (uint64 j = i; j > 0 && term_before(&t[j], &t[j - 1]); j--) {
      struct dpf_term x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  int c = class_of(t, n);
  if (c >= 0 && lookup(&classes[c], t[n - 1].value) != 0)
    return -E_CLAIMED;
  if (c < 0 && (c = class_new(t, n)) < 0)
    return -E_AGAIN;
  struct dpf_class *k = &classes[c];
  uint32 h = hash(t[n - 1].value);
  members[m] = (struct member){c + 1, k->bucket[h], t[n - 1].value, owner};
  k->bucket[h] = m + 1;
  k->nfilters++;
  return 0;
}

// Take member m out of the table (and its class, if it was the last one).
static void remove_member(int m)
{
  int c = members[m].cls - 1;
  struct dpf_class *k = &classes[c];
  uint16 *link = &k->bucket[hash(members[m].key)];
  while (*link != m + 1)
    link = &members[*link - 1].next;
  *link = members[m].next;
  members[m] = (struct member){0, 0, 0, 0};
  if (--k->nfilters > 0)
    return;
  k->nterms = 0;
  int at = 0;
  while (order[at] != c)
    at++;
  nclasses--;
  memmove(&order[at], &order[at + 1], nclasses - at);
}

// Take filter f out of the table: each of its alternatives.
void dpf_remove(int f)
{
  for (int m = f * DPF_ALTS; m < (f + 1) * DPF_ALTS; m++)
    if (members[m].cls != 0)
      remove_member(m);
}

// Check filter f's n terms (copied from the user into t, which may be
// reordered): 1..DPF_ALTS alternatives separated by DPF_OR terms,
// installed by environment owner; merge each into the table. Returns 0
// or insert_member's refusal (the table is then as it was), or
// -E_BADFILTER for an empty alternative, a separator with fields set, or
// too many alternatives.
long dpf_insert(int f, uint32 owner, struct dpf_term *t, uint64 n)
{
  uint64 start = 0;
  int alt = 0;
  long err = 0;
  for (uint64 i = 0; i <= n && err == 0; i++) {
    if (i < n && t[i].length != 0)
      continue;
    if (i < n && (t[i].offset != 0 || t[i].mask != 0 || t[i].value != 0))
      err = -E_BADFILTER;
    else if (alt == DPF_ALTS)
      err = -E_BADFILTER;
    else
      err = insert_member(f * DPF_ALTS + alt++, owner, &t[start], i - start);
    start = i + 1;
  }
  if (err < 0)
    dpf_remove(f);
  return err;
}

// The field term t tests in frame (len bytes), masked, in *v. Returns 0 if
// the frame is too short for it.
static int field(const uint8 *frame, uint64 len, const struct dpf_term *t, uint32 *v)
{
  if (t->offset + t->length > len)
    return 0;
  uint32 x = 0;
  for (int i = 0; i < t->length; i++)
    x = x << 8 | frame[t->offset + i];
  *v = x & t->mask;
  return 1;
}

// The filter that accepts the frame (len bytes), or -1 if none does.
int dpf_match(const uint8 *frame, uint64 len)
{
  for (int o = 0; o < nclasses; o++) {
    struct dpf_class *k = &classes[order[o]];
    uint32 v;
    int i = 0;
    while (i < k->nterms - 1 && field(frame, len, &k->term[i], &v) && v == k->term[i].value)
      i++;
    if (i < k->nterms - 1 || !field(frame, len, &k->term[i], &v))
      continue;
    uint32 m = lookup(k, v);
    if (m != 0)
      return (m - 1) / DPF_ALTS;
  }
  return -1;
}

// For kcheck: installed[f] is the owner of net.c's filter f (0: free, or
// in no table: the default filter). Every such filter's alternatives are
// on the hash chains of their classes for their keys, with that owner,
// and no other member is; each class counts its members right; the order
// lists exactly the classes in use, most terms first. Returns NULL or the
// violation, with the member or class in *where.
const char *dpf_check(const uint32 *installed, uint64 *where)
{
  int count[DPF_CLASSES] = {0}, listed = 0;
  for (int c = 0; c < DPF_CLASSES; c++)
    for (uint32 b = 0; b < BUCKETS; b++)
      for (uint32 f = classes[c].bucket[b], steps = 0; f != 0; f = members[f - 1].next) {
        *where = f - 1;
        if (++steps > MEMBERS || members[f - 1].cls != c + 1 || hash(members[f - 1].key) != b)
          return "packet filter on the wrong hash chain (or a chain loops)";
        count[c]++;
        listed++;
      }
  int used = 0, installed_count = 0;
  for (int m = 0; m < MEMBERS; m++) {
    *where = m;
    uint32 owner = installed[m / DPF_ALTS];
    if (members[m].cls != 0 && (owner == 0 || members[m].owner != owner))
      return "packet filter in the merged table but not installed";
    if (m % DPF_ALTS == 0 && owner != 0 && members[m].cls == 0)
      return "packet filter installed but not in the merged table";
    installed_count += members[m].cls != 0;
  }
  for (int c = 0; c < DPF_CLASSES; c++) {
    *where = c;
    if (count[c] != classes[c].nfilters || (classes[c].nterms != 0) != (count[c] != 0))
      return "packet-filter class counts its filters wrong";
    used += classes[c].nterms != 0;
  }
  if (listed != installed_count || used != nclasses)
    return "packet filters or classes missing from the table";
  for (int o = 0; o < nclasses; o++) {
    *where = o;
    int n = classes[order[o]].nterms;
    if (n == 0 || (o > 0 && classes[order[o - 1]].nterms < n))
      return "packet-filter classes out of order";
  }
  return NULL;
}
