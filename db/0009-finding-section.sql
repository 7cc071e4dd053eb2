-- The MAINTAINERS section a review filed each finding under (its
-- patch's first section; NULL: none matched).  A maintainer's
-- "#kreview invalid" in a reply to the review records the rejection in
-- that section's bug database, where later reviews look for it.
ALTER TABLE review_finding ADD COLUMN section TEXT;
