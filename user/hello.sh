echo one
echo two | wc
